"""Citizens' reports (民呼我为): the services residents report under, their requests through
Open311 GeoReport v2, and what they are told as their cases move."""
