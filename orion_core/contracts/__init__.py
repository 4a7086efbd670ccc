"""What several packages agree on, kept below all of them so no package imports a sibling for it.

* ``masklist``  the mask list: detect-segment-track's output, the object branch's input (pipeline writes it;
                train, inference and eval read it; the synthetic world writes its ground truth in it)
* ``digests``   ``json_digest`` (sha256 of sorted-key JSON, 16 hex) and ``file_sha256``: every content address
* ``atomic``    atomic file writes (temp file renamed into place) for every JSON a killed run must not truncate
* ``integrity`` stored outputs sealed with their sha256 when written and verified before reuse
* ``shapes``    the nouns and shapes of the synthetic world, which the classical tagger names blobs with

Plain Python, no Dagster; importing this package imports none of its modules.
"""
