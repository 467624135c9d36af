# Database targets, as the old `python scripts/db_manage.py` wrappers had them.
FACEDB ?= cargo run --release --quiet --
.PHONY: db-init db-reset db-fresh init-admin reset-password list-users build test

build:
	cargo build --release

db-init:
	$(FACEDB) init

db-reset:
	$(FACEDB) reset

db-fresh:
	$(FACEDB) fresh --force

# Accounts, as the old `make init-admin`, `make reset-password` and `make list-users` had them.
init-admin:
	$(FACEDB) user create

# make reset-password username=NAME [password=SECRET]: without password=, facedb asks (hidden).
# The password reaches facedb through the environment and a pipe, never a command line that `ps`
# or make's echo would show; it does land in the shell history of whoever typed it. make expands
# `$` in it: write `$$` for a literal `$`.
reset-password:
	@if [ -z "$$username" ]; then echo "usage: make reset-password username=NAME [password=SECRET]" >&2; exit 2; fi
	@if [ -n "$$password" ]; then \
		printf '%s\n' "$$password" | $(FACEDB) user reset-password "$$username" --password-stdin; \
	else \
		$(FACEDB) user reset-password "$$username"; \
	fi

list-users:
	$(FACEDB) user list

test:
	cargo test
