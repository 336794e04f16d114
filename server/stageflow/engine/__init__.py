"""The run engine: run state machine, job queue, workers and the event log."""
