"""Start the EvalSync desktop app: ``python main.py [--demo] [--data-dir DIR]``."""

from evalsync_gui.app import main

if __name__ == "__main__":
    raise SystemExit(main())
