"""Service levels: due times counted in working time on business calendars, and the
escalations of work items that are late.

:mod:`stageflow.sla.calendars` holds the business-time arithmetic (working hours,
holidays, time zones, durations such as ``4h`` or ``2d`` on a calendar);
:mod:`stageflow.sla.policy` reads a step's ``sla`` (due time, warning, escalation
rungs); :mod:`stageflow.sla.escalation` is the sweep that fires each rung exactly once.
The scheduler that runs the sweep on time is :mod:`stageflow.scheduler`.
"""
