"""Data: raw sources, manifests, the paper's dataset filters, DVC hashing, and the synthetic world.

* ``ingest``       sources (local folder or ``s3://``), snapshots with their DVC data version, shards
* ``manifest``     every media file probed (``orion manifest``), per shard for the ``video_manifest`` asset
* ``filters/``     quality, caption similarity, concept balance (``orion filter``) -> ``train.json``
* ``dvc_hash``     DVC 3's md5 without DVC (``orion data-version``); ``dvc_outputs`` the files ``dvc.yaml`` declares
* ``synthetic/``   the embedded world generator (``orion world``) and its ground truth as mask lists

Below the pipeline and the model: nothing here imports them.
"""
