"""The OGC SensorThings API v1.1 (Sensing part) at `/sta/v1.1`, over the sensing tables.

Thing = device (its Location, HistoricalLocation and FeatureOfInterest are its point),
Sensor = device type, ObservedProperty = observed property, Datastream = datastream,
Observation = reading. Observations are taken in through the sensing ingest service.
"""
