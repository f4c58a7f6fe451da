import sys

try:
    from .cli import main
except ModuleNotFoundError as e:
    if e.name not in ("torch", "numpy"):
        raise
    sys.stderr.write(f"kvtier-capture: {sys.executable} has no module '{e.name}': install PyTorch and NumPy "
                     "(Debian: scripts/deps.sh --capture, for /usr/bin/python3; elsewhere: pip install torch numpy)\n")
    sys.exit(1)

sys.exit(main())
