"""The registry of regulated businesses (监管对象名录库): the directory random inspections
draw from, joint inspections target and penalty cases name as the party."""
