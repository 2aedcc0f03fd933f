"""Run records: one run of one method over one clip, written atomically and loaded with validation."""

from workbench.runs.record import record_run, source_info, write_run_video
from workbench.runs.records import (
    COLUMNS,
    RECORD_VERSION,
    Run,
    RunError,
    RunWriter,
    list_runs,
    load_run,
    new_run_id,
)

__all__ = ["COLUMNS", "RECORD_VERSION", "Run", "RunError", "RunWriter", "list_runs", "load_run", "new_run_id",
           "record_run", "source_info", "write_run_video"]
