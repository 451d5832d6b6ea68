"""What a result depends on, and where it is kept: code hashes, the parameters a
process reads, result payloads and the step state behind the cache."""
