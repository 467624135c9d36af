# Database targets, as the old `python scripts/db_manage.py` wrappers had them.
FACEDB ?= cargo run --release --quiet --
.PHONY: db-init db-reset db-fresh init-admin reset-password list-users build test

build:
	cargo build --release

db-init:
	$(FACEDB) init

# Without a terminal, reset's refusal names the make target that resets without asking.
db-reset:
	FACEDB_MAKE_INSTEAD=db-fresh $(FACEDB) reset

db-fresh:
	$(FACEDB) fresh --force

# Accounts, as the old `make init-admin`, `make reset-password` and `make list-users` had them.
# make init-admin: asks on a terminal. Without one (CI, a pipe) pass every value through make:
#   make init-admin username=NAME email=ADDRESS first_name=NAME last_name=NAME password=SECRET
# The password reaches facedb as reset-password's does (below).
init-admin:
	@if [ -n "$$password" ]; then \
		printf '%s\n' "$$password" | $(FACEDB) user create \
			$${username:+--username "$$username"} $${email:+--email "$$email"} \
			$${first_name:+--first-name "$$first_name"} $${last_name:+--last-name "$$last_name"} \
			--password-stdin; \
	elif [ -t 0 ] && [ -t 2 ]; then \
		$(FACEDB) user create \
			$${username:+--username "$$username"} $${email:+--email "$$email"} \
			$${first_name:+--first-name "$$first_name"} $${last_name:+--last-name "$$last_name"}; \
	else \
		echo "error: make init-admin asks on a terminal, and there is none; pass the values through make: make init-admin username=NAME email=ADDRESS first_name=NAME last_name=NAME password=SECRET" >&2; \
		exit 2; \
	fi

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
