"""The `edih` command: runs the embedded platform (`edih up`, `down`, `status`) and issues tokens."""
