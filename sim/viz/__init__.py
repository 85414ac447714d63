"""The browser demo: a thin UI layer over :mod:`sim` (Mesa SolaraViz).

Nothing in ``sim`` outside this package and ``sim/cli/demo.py`` imports it (style point 10).
:mod:`sim.viz.inputs`, :mod:`sim.viz.drawing` and :mod:`sim.viz.compare` need only numpy
and matplotlib, so they are testable without the demo extra; :mod:`sim.viz.app` needs
``solara`` (``python -m pip install -e '.[demo]'``).
"""
