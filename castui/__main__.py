from castui.cli import main

raise SystemExit(main())
