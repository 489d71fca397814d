# berth — top-level entry points. CMake builds, ctest runs the tests.
#   make demo   install deps, build, run the demo (inside a throwaway namespace)
#   make test   build everything (release, sanitizer, fuzz) and run the whole suite
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
PREFIX     ?= /usr/local
JOBS       ?= $(shell nproc)
CTEST_ARGS ?= -j2

.PHONY: all deps test unit demo install bench fuzz clean asan

# Configuring is cheap when nothing changed, and always passing the options
# keeps a tree configured by hand from silently dropping the ASan/fuzz tests.
all: deps
	@cmake -S . -B $(BUILD) -G Ninja -DBERTH_ASAN_BUILD=$(CURDIR)/$(ASAN_BUILD) \
	  -DBERTH_FUZZ_BUILD=$(CURDIR)/$(FUZZ_BUILD) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@hack/deps.sh

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit_tests

fuzz: deps
	@test -f $(FUZZ_BUILD)/build.ninja || CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_targets

# The whole suite: unit, integration and e2e tests from the release build,
# the unit tests again under ASan+UBSan, and every fuzz target for a while.
test: all asan fuzz
	cd $(BUILD) && ctest --output-on-failure $(CTEST_ARGS)

# Unit tests only (no root needed).
unit: all
	cd $(BUILD) && ctest --output-on-failure -L unit $(CTEST_ARGS)

demo: all
	@hack/demo.sh $(BUILD)

# The binaries, the systemd unit and the socket's group "berth" (members may
# use the berth CLI without root). Then: systemctl enable --now berthd
SYSTEMD_DIR ?= /etc/systemd/system
install: all
	install -D -m 0755 $(BUILD)/runtime/berth-runtime $(DESTDIR)$(PREFIX)/bin/berth-runtime
	install -D -m 0755 $(BUILD)/agent/berth-shim $(DESTDIR)$(PREFIX)/bin/berth-shim
	install -D -m 0755 $(BUILD)/agent/berthd $(DESTDIR)$(PREFIX)/bin/berthd
	install -D -m 0755 $(BUILD)/agent/berth $(DESTDIR)$(PREFIX)/bin/berth
	install -d $(DESTDIR)$(SYSTEMD_DIR)
	sed 's|@PREFIX@|$(PREFIX)|g' contrib/systemd/berthd.service > $(DESTDIR)$(SYSTEMD_DIR)/berthd.service
	@if [ -z "$(DESTDIR)" ]; then \
	  getent group berth >/dev/null || groupadd --system berth; \
	  systemctl daemon-reload 2>/dev/null || true; \
	  echo "installed; start it with: systemctl enable --now berthd"; \
	fi

bench: all
	@hack/bench/run-all.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
