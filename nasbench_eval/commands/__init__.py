"""One module per CLI subcommand: HELP, add_arguments(parser), run(args) -> dict, format_text(result) -> str."""
