# Database targets, as the old `python scripts/db_manage.py` wrappers had them.
FACEDB ?= cargo run --release --quiet --
.PHONY: db-init db-reset db-fresh build test

build:
	cargo build --release

db-init:
	$(FACEDB) init

db-reset:
	$(FACEDB) reset

db-fresh:
	$(FACEDB) fresh --force

test:
	cargo test
