"""Persistence: key-value metadata and large objects, behind two small interfaces.

The engine, tracker, web UI and cluster store documents in a
:class:`~mlops.storage.interfaces.kv_store.KVStore` and bytes in an
:class:`~mlops.storage.interfaces.object_store.ObjectStore`; which backend
serves them is configuration, resolved by :mod:`mlops.storage.factory`.
"""
