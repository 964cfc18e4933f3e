"""Administrative penalty cases (行政处罚办案): the statutory procedure as a state machine,
its deadlines from the law's numbers, the simplified procedure, and the cases opened from
inspection findings (`opening.open_from_finding`); `repository.overdue` for supervision."""
