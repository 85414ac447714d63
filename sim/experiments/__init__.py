"""Experiments at scale: loading experiment files, designs, content-keyed seeds, local and
Dask executors and the resumable SQLite results store. Imports :mod:`sim.model` and
:mod:`sim.config`."""
