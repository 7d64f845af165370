"""How a competition scores a kernel: the file a notebook writes, or the predictions it serves to a gateway."""
