#!/usr/bin/env python
from smmpanel.cli import main

if __name__ == "__main__":
    main()
