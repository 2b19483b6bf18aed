"""Distance between postcode districts: the one implementation lives in libs/common/geography.py."""
from libs.common.geography import centroids, distance_km, haversine_km, locate

__all__ = ["centroids", "distance_km", "haversine_km", "locate"]
