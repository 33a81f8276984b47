# Noise engine, buffer, crypto provider and their tests (owner: noise work)
