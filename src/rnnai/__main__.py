"""``python -m rnnai``: the same as the ``rnnai`` command."""

from rnnai.cli import main

if __name__ == "__main__":
    main(prog_name="rnnai")
