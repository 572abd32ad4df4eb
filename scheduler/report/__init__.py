"""What the journal shows when it leaves crampguard: the report page and the export."""
