"""Service levels: due times counted in working time on business calendars.

:mod:`stageflow.sla.calendars` holds the business-time arithmetic (working hours,
holidays, time zones, durations such as ``4h`` or ``2d`` on a calendar).
"""
