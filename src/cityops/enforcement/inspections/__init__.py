"""Supervision inspections (监督检查): plans, random draws (双随机), joint inspections
(综合查一次), findings on site, the combined rectification notice and re-inspection."""
