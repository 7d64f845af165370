"""Generic LLM machinery any pack uses: model and adapter signatures, loading, generation, LoRA training."""
