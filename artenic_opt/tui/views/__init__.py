"""Part of the Textual dashboard; see ``artenic_opt.tui``."""
