print("kfc-image")
