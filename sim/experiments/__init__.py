"""Experiments at scale, one typed contract between the stages (:mod:`.contract`):
experiment files (:mod:`.loader`) and their designs (:mod:`.design`), content-keyed seeds
(:mod:`.seeds`), local and Dask executors (:mod:`.executors`), sweeps (:mod:`.sweep`) and
the resumable SQLite results store (:mod:`.store` on :mod:`.storage`), the only code that
speaks SQL. Imports :mod:`sim.model` and :mod:`sim.config`."""
