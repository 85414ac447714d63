"""The browser demo and the animations: a thin UI layer over :mod:`sim`.

Nothing in ``sim`` outside this package and ``sim/cli/demo.py``, ``sim/cli/animate.py``
imports it (style point 10). Every module but :mod:`sim.viz.app` needs only numpy,
matplotlib and Pillow, so it is testable without the demo extra; :mod:`sim.viz.app` needs
``solara`` (``python -m pip install -e '.[demo]'``).
"""
