"""The workflow SDK's own summary items: their layout, and the table rollwise mirrors its summaries into."""
