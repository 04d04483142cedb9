"""The hub's independent services; each owns its data and talks to the others by events and HTTP.

The one list of the services' default ports (each on http://127.0.0.1:<port> unless
`EDIH_SERVICE_URLS` says otherwise), registered with the shared settings when this package is
imported: every process that calls a service imports it (a service, the journey, the `edih` command).
A new service adds its line here.
"""

from shared.settings import register_service_ports

DEFAULT_PORTS = {
    "console": 8100,
    "intake": 8101,
    "training": 8102,
    "financing": 8103,
    "notifications": 8104,
    "network": 8105,
    "journey": 8106,
}

register_service_ports(DEFAULT_PORTS)
