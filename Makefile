# facegate — the two commands that matter are `make run` and `make test` (see README.md).
.PHONY: run test setup models media proxies db db-stop watch bench clean-data

run:            ## install what is missing, start the local database, build and serve the app
	scripts/run.sh

test:           ## everything: fmt, clippy, unit + integration tests, Playwright end-to-end
	scripts/test.sh

setup:          ## install tools, packages and models (idempotent)
	scripts/setup.sh --test

models:         ## fetch and checksum dlib's models into models/
	scripts/fetch-models.sh --verify

media:          ## fetch and checksum the real face photos and videos used by the tests
	scripts/fetch-media.sh

proxies:        ## build the pinned Caddy and oauth2-proxy into .tools/bin (docs/forward-auth.md)
	scripts/build-proxies.sh

db:             ## start the local FerretDB on 127.0.0.1:27018 (data in data/)
	scripts/db.sh start

db-stop:        ## stop it
	scripts/db.sh stop

watch: db      ## development: rebuild and reload on change (cargo-leptos, installed on first use)
	scripts/setup.sh --test --watch
	@# The face-template key (docs/security.md), made like `facegate keys new` does, as run.sh would.
	@[ -n "$$FACEGATE_TEMPLATE_KEY_FILE" ] || [ -e data/template-keys ] || (umask 077; mkdir -p data; \
	  printf 'k%s %s\n' "$$(date -u +%Y%m%dT%H%M%SZ)" "$$(head -c 32 /dev/urandom | base64 -w0)" > data/template-keys)
	PATH="$(CURDIR)/end2end/node_modules/.bin:$$PATH" MONGODB_URI="$${MONGODB_URI:-mongodb://127.0.0.1:27018/}" cargo leptos watch

bench:          ## face-engine benchmarks, ours against the Python reference
	scripts/bench-compare.sh

clean-data:     ## stop the local database and delete its data
	scripts/db.sh stop
	rm -rf data
