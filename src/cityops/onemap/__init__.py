"""One map of territorial space (国土空间“一张图”): planning layers, land-use classes, the
control lines, conflicts between plans (多规合一) and standard spatial services."""
