# letterbox — build, test and check targets.  `make help` lists them.
VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
# Installed templates and examples; the binary falls back to DATADIR/templates
# (or BINDIR/../share/letterbox when it was moved there, as under DESTDIR).
DATADIR   ?= $(PREFIX)/share/letterbox
BUILD     ?= build
CC        ?= cc
DEPS      := scripts/deps

PKGS      := libcurl libcmark yaml-0.1 gnutls nettle libidn2 sqlite3
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is not linked but opened when first used (src/deliver/curl_load.h):
# it and the ~25 libraries it pulls in cost milliseconds at every start, and
# `letterbox cgi` starts once per web request.  The library is the one the
# build finds (libcurl-gnutls.so.4 on Debian), by its SONAME.
PKG_LIBS   = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)
CURL_SONAME := $(shell objdump -p "$$($(CC) -print-file-name=libcurl.so)" 2>/dev/null | \
	awk '$$1 == "SONAME" {print $$2}')
# libetpan's .pc leaks Debian build flags (a non-PIE link spec): link it plainly.
LIBS       = $(PKG_LIBS) -letpan -lresolv -ldl -pthread

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
	-Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wnull-dereference -Wdouble-promotion \
	-Wimplicit-fallthrough -Wno-missing-field-initializers
ifeq ($(CI),true)
WARN += -Werror
endif
OPT      ?= -O2 -g
CFLAGS   ?= $(OPT)
ALL_CFLAGS = $(CPPFLAGS) -std=c17 -D_GNU_SOURCE -DLB_VERSION='"$(VERSION)"' -DLB_DATADIR='"$(DATADIR)"' \
	$(if $(CURL_SONAME),-DLB_CURL_SONAME='"$(CURL_SONAME)"') $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) \
	-Isrc $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)

LIB_SRC   := $(sort $(wildcard src/core/*.c src/store/*.c src/compose/*.c src/deliver/*.c \
	src/receive/*.c src/triage/*.c src/web/*.c src/cmd/*.c))
# The crisis lexicon (data/urgent/LANG.txt) is compiled in as a generated C file.
LEXICON   := $(sort $(wildcard data/urgent/*.txt))
LEXICON_C := $(BUILD)/gen/lexicon_files.c
# The templates `letterbox init` writes: every file in templates/, compiled in.
TEMPLATES := $(sort $(wildcard templates/*))
TEMPLATES_C := $(BUILD)/gen/templates.c
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(LEXICON_C:%.c=%.o) $(TEMPLATES_C:%.c=%.o)
TEST_SRC  := $(sort $(wildcard tests/unit/test_*.c))
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
TOOL_SRC  := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)


.PHONY: unit-bin tool-bin bench-bin fuzz-bin fuzz-lib
.PHONY: all deps test unit check-build demo asan ubsan leakcheck fuzz fuzz-long lint format \
	format-check install uninstall deb clean help screenshot bench serve
all: $(BUILD)/letterbox

deps:
	@$(DEPS) build

$(BUILD)/liblb.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/letterbox: $(BUILD)/src/main.o $(BUILD)/liblb.a
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LEXICON_C): $(LEXICON) scripts/embed-lexicon
	@mkdir -p $(@D)
	scripts/embed-lexicon $(LEXICON) >$@.tmp && mv $@.tmp $@

$(LEXICON_C:%.c=%.o): $(LEXICON_C)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(TEMPLATES_C): $(TEMPLATES) scripts/embed-files
	@mkdir -p $(@D)
	scripts/embed-files embedded_templates $(TEMPLATES) >$@.tmp && mv $@.tmp $@

$(TEMPLATES_C:%.c=%.o): $(TEMPLATES_C)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liblb.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/liblb.a $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/liblb.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/liblb.a $(ALL_LDFLAGS) $(LIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/liblb.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/liblb.a $(ALL_LDFLAGS) $(LIBS)

# ---- tests ---------------------------------------------------------------------------------
# `make test` is the README's test command: it installs what is missing, builds, and runs
# unit, golden, independent-parser and end-to-end tests, then a short run of every fuzzer.
test:
	@$(DEPS) test
	@$(MAKE) --no-print-directory all unit-bin tool-bin bench-bin
	@LB_BUILD=$(BUILD) tests/run

unit-bin: $(TEST_BIN)
tool-bin: $(TOOL_BIN)
bench-bin: $(BENCH_BIN)

unit: unit-bin
	@fail=0; for t in $(TEST_BIN); do $$t || fail=1; done; exit $$fail

# ---- the main job on the built-in default ----------------------------------------------------
demo:
	@$(DEPS) build
	@$(MAKE) --no-print-directory all
	@scripts/demo $(BUILD)/letterbox

# The sample site's web side on http://127.0.0.1:8080/news (lighttpd, contrib/lighttpd.conf).
serve:
	@$(DEPS) serve
	@$(MAKE) --no-print-directory all
	@scripts/serve $(BUILD)/letterbox

# ---- sanitizers and valgrind -------------------------------------------------------------------
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan CC=clang OPT="-O1 -g" \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" all unit-bin tool-bin
	@ASAN_OPTIONS=detect_leaks=1 LB_BUILD=build/asan tests/run unit golden

ubsan:
	@$(MAKE) --no-print-directory BUILD=build/ubsan CC=clang OPT="-O1 -g" \
		EXTRA_CFLAGS="-fsanitize=undefined,float-divide-by-zero,local-bounds -fno-sanitize-recover=all" \
		EXTRA_LDFLAGS="-fsanitize=undefined" all unit-bin tool-bin
	@LB_BUILD=build/ubsan tests/run unit golden

leakcheck: all unit-bin tool-bin
	@LB_VALGRIND=1 LB_BUILD=$(BUILD) tests/run unit golden

# ---- fuzzing (libFuzzer via clang) -------------------------------------------------------------
FUZZ_BUILD := build/fuzz
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_SECONDS ?= 60
# The library is brought up to date by its own make first (fuzz-lib), so a target never
# links stale objects; each target is relinked when the library changed.
fuzz-lib:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD)/obj CC=clang OPT="-O1 -g" \
		EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
		$(FUZZ_BUILD)/obj/liblb.a
$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/obj/liblb.a
	clang -std=c17 -D_GNU_SOURCE -O1 -g -Isrc $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(FUZZ_BUILD)/obj/liblb.a $(LIBS)

fuzz-bin: fuzz-lib
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
# A run of FUZZ_SECONDS per target (FUZZ_TARGETS to pick some); `make test` runs each for a
# few seconds.  What a run finds that adds coverage is merged into tests/fuzz/corpus/TARGET/,
# the corpus kept in the repository, so the short runs start from it.
FUZZ_TARGETS ?= $(FUZZ_BIN:$(FUZZ_BUILD)/%=%)
fuzz: fuzz-bin
	@for n in $(FUZZ_TARGETS); do f=$(FUZZ_BUILD)/$$n; mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(FUZZ_BUILD)/corpus/$$n \
			tests/fuzz/corpus/$$n 2>$(FUZZ_BUILD)/$$n.log || { tail -40 $(FUZZ_BUILD)/$$n.log; exit 1; }; \
		grep -E 'Done [0-9]+ runs' $(FUZZ_BUILD)/$$n.log; \
		$$f -merge=1 -max_len=65536 tests/fuzz/corpus/$$n $(FUZZ_BUILD)/corpus/$$n \
			>$(FUZZ_BUILD)/$$n.merge.log 2>&1 || { tail -20 $(FUZZ_BUILD)/$$n.merge.log; exit 1; }; \
	done

# ---- style ----------------------------------------------------------------------------------------
BANNED := '\<(strcpy|strcat|sprintf|vsprintf|strtok|sscanf|atoi|atol|gets)[[:space:]]*\('
lint:
	@if grep -nE $(BANNED) src/*.c src/*/*.c tests/unit/*.c tests/fuzz/*.c bench/*.c; then \
		echo "lint: banned function used (see STYLE)"; exit 1; fi
	@clang-tidy --quiet $(LIB_SRC) src/main.c -- -std=c17 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) \
		-DLB_VERSION='"$(VERSION)"' 2>/dev/null | tee $(BUILD)/lint.log; \
		! grep -q 'warning:\|error:' $(BUILD)/lint.log

format:
	clang-format -i src/*.c src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c bench/*.c

format-check:
	@clang-format --dry-run -Werror src/*.c src/*/*.c src/*/*.h tests/unit/*.c tests/fuzz/*.c bench/*.c

# ---- pictures and benchmarks ---------------------------------------------------------------------
screenshot: all
	@$(DEPS) screenshot
	@scripts/screenshot $(BUILD)/letterbox docs/newsletter.png

bench: all bench-bin
	@bench/run

# ---- install ---------------------------------------------------------------------------------------
# The binary, the man pages, and DATADIR: templates/ (what a site without its own uses)
# and examples/ (all of contrib/: crontab, systemd units, sysusers.d and tmpfiles.d), with
# BINDIR and DATADIR written into them.
EXAMPLES  := $(sort $(shell find contrib -type f))
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DATADIR)/templates $(DESTDIR)$(DATADIR)/examples
	install -m 755 $(BUILD)/letterbox $(DESTDIR)$(BINDIR)/letterbox
	install -m 644 $(TEMPLATES) $(DESTDIR)$(DATADIR)/templates/
	for f in $(EXAMPLES) docs/man/*.[15]; do \
		case $$f in docs/man/*) to=$(DESTDIR)$(MANDIR)/man$${f##*.}/$${f##*/} ;; \
			*) to=$(DESTDIR)$(DATADIR)/examples/$${f#contrib/}; mkdir -p $${to%/*} ;; esac; \
		sed -e 's|/usr/local/bin|$(BINDIR)|g' -e 's|/usr/local/share/letterbox|$(DATADIR)|g' \
			$$f >$$to && chmod 644 $$to || exit 1; \
		if [ -x $$f ]; then chmod 755 $$to; fi; \
	done

# ---- a Debian package ---------------------------------------------------------------------------
# `make deb`: build/deb/letterbox_VERSION-1_ARCH.deb from a copy of the sources (dpkg-buildpackage
# writes beside the source directory), then lintian: errors and warnings fail, each override in
# debian/letterbox.lintian-overrides says why.
DEB_DIR := $(BUILD)/deb
deb:
	@$(DEPS) deb
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/letterbox-$(VERSION)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -co --exclude-standard -z | tar --null -T - -cf - | \
			tar -xf - -C $(DEB_DIR)/letterbox-$(VERSION); \
	else \
		tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C $(DEB_DIR)/letterbox-$(VERSION); \
	fi
	cd $(DEB_DIR)/letterbox-$(VERSION) && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -30 ../build.log; exit 1; }
	lintian --fail-on error,warning \
		$(DEB_DIR)/letterbox_*.deb
	@ls $(DEB_DIR)/letterbox_*.deb

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/letterbox $(DESTDIR)$(MANDIR)/man1/letterbox.1 \
		$(DESTDIR)$(MANDIR)/man5/letterbox.yaml.5
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build

help:
	@echo "targets: all test demo asan ubsan leakcheck fuzz lint format install uninstall deb screenshot bench serve"

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d
