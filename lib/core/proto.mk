# Frames, records, sealed blobs, ops header codec and their tests (owner: proto work)
