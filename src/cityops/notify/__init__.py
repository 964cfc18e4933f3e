"""Delivery: committed case changes pushed to connected clients (WebSocket, Server-Sent Events)."""
