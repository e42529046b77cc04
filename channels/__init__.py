"""Rasa input channels of the project (Rasa-specific; the rules module stays Rasa-free).

Importing the package (Rasa does, through credentials.yml) also installs ``channels.speedups``.
"""

from channels import speedups

speedups.apply()
