"""Media Vault benchmarks: ``python -m bench.run [--quick]`` writes docs/benchmarks.md."""
