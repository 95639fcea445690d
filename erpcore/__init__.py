"""erpcore: the compact ERP transactional core every erpops tool stands on."""

__version__ = "0.1.0"
