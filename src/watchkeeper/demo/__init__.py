"""The ``watchkeeper demo``: a simulated checkout service whose SLOs burn after a fault."""
