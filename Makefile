# EvalSync developer commands. Each target sets up what it needs first (idempotent):
# Qt's system libraries (apt, when root), .venv, and the editable install.
#
#   make run          launch the app on the built-in simulated Zendesk (--demo)
#   make test         the whole test suite headless (the import-linter contracts are one of its tests)
#   make bench        the benchmarks (python -m bench; BENCH_ARGS=--quick for a short run)
#   make mutate       mutation testing of the safety modules (MODULES="sync.guard sync.fetch" for some)
#   make package      PyInstaller one-folder build in dist/EvalSync, then its --self-test
#   make screenshots  docs/screenshots/*.png of each tab, taken offscreen from --demo
#   make icons        re-render resources/icons/* from resources/evalsync.svg

PY := .venv/bin/python
BOOTSTRAP := packaging/bootstrap.sh

.PHONY: run test bench mutate package screenshots icons clean

run:
	@$(BOOTSTRAP) run
	@$(PY) main.py --demo  # with no display it prints one line and exits 1 before Qt starts

test:
	@$(BOOTSTRAP) test
	@packaging/run_tests.sh $(PYTEST_ARGS)

bench:
	@$(BOOTSTRAP) test
	QT_QPA_PLATFORM=offscreen $(PY) -m bench $(BENCH_ARGS)

mutate:
	@$(BOOTSTRAP) test
	@$(PY) -m pip install -q -e '.[mutate]'
	@MODULES="$(MODULES)" packaging/mutate.sh

package:
	@$(BOOTSTRAP) package
	@packaging/build.sh

screenshots:
	@$(BOOTSTRAP) run
	QT_QPA_PLATFORM=offscreen $(PY) packaging/take_screenshots.py

icons:
	@$(BOOTSTRAP) run
	$(PY) resources/build_icons.py

clean:
	rm -rf build dist
