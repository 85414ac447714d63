"""Calibration to the reported ranges (ABC-SMC with pyabc), and what it carries forward.

Reads scenarios and reported figures through :mod:`sim.config`, runs the model through the
experiment runner of :mod:`sim.experiments`, and writes a calibrated scenario, posterior
samples and a validation page.
"""
