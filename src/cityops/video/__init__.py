"""Video detections: cameras, zones, detections verified before they become cases (视频智能分析)."""
