"""Analysis of a results store: tables, figures and the HTML report. Reads results through
:mod:`sim.experiments` (the store's API), never a live model."""
