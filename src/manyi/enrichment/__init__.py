"""Text enrichment in the product: every feedback record and open-text answer read by the text models.

Results (language, sentiment, aspects with their own sentiment, keywords, urgency flags) are stored
per text with the model name and version that produced them; a new model version re-enriches.
"""
