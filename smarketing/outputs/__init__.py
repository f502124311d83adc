"""What leaves smarketing: PDF / Excel / CSV reports, formula-safe exports, the chat digest."""
