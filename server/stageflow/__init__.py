"""Stageflow: multi-stage, multi-user business process orchestration."""

__version__ = "0.1.0"
