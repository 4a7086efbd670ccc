from orion_core.cli import main

raise SystemExit(main())
