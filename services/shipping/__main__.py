from services.shipping.app import main

main()
