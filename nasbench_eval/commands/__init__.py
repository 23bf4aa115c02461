"""One module per CLI subcommand: add_arguments(parser), run(args) -> dict, format_text(result) -> str."""
